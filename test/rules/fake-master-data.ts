import type { MasterDataLookup } from '../../agent/rules/types';

type Product = NonNullable<ReturnType<MasterDataLookup['product']>>;

/** Master data as the pull job would cache it, for rule and lookup tests. Records every code asked for. */
export function fakeMasterData(): MasterDataLookup & { asked: string[] } {
  const products: Product[] = [
    { id: 1, name: 'Bolt M6', defaultCode: 'BOLT-M6', barcode: '9506000134352', tracking: 'lot' },
    { id: 2, name: 'Marker', barcode: '04006381333931', tracking: 'none' },
    { id: 3, name: 'Resin', defaultCode: 'RESIN-A', tracking: 'lot' },
    { id: 4, name: 'Controller board', defaultCode: 'CTRL-1', tracking: 'serial' },
    { id: 5, name: 'Washer', defaultCode: 'WASHER', tracking: 'none' },
  ];
  const asked: string[] = [];
  return {
    asked,
    product(code) {
      asked.push(code);
      return products.find((p) => p.barcode === code || p.defaultCode === code);
    },
    production(name) {
      return name === 'WH/MO/00042' ? { id: 42, name, state: 'confirmed', productId: 9 } : undefined;
    },
    lot(name, productId) {
      if (name === 'L-100' && (productId === undefined || productId === 1)) return { id: 100, name, productId: 1 };
      return undefined;
    },
  };
}
