import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parseConfigText } from '../../agent/config/load';
import { demoClientId, demoConfig } from '../../agent/demo/demo';
import { registerBuiltins } from '../../agent/runtime/builtins';

const params = (clientId: string) => ({
  clientId,
  stateDir: '/tmp/demo-config-test',
  simUrl: 'http://127.0.0.1:1',
  db: 'demo',
  opcuaUrl: 'opc.tcp://127.0.0.1:1',
  nodeIds: { counter: 'ns=1;s=c', stateCode: 'ns=1;s=s', temperature: 'ns=1;s=t' },
  modbusPort: 1,
  brokerUrl: 'mqtt://127.0.0.1:1883',
  topic: 'demo/1',
  port: 0,
});

it("two demos on one host use their own MQTT client ids and no lasting session (they kept taking each other's place)", () => {
  registerBuiltins();
  process.env.EDGE_DEMO_ODOO_KEY ??= 'demo-key';
  const ids = [demoClientId(), demoClientId()];
  assert.notEqual(ids[0], ids[1]);
  for (const id of ids) {
    const config = parseConfigText(demoConfig(params(id)), 'demo.yaml');
    const mes = config.sources.find((s) => s.name === 'mes') as unknown as { clientId: string; clean: boolean };
    assert.equal(mes.clientId, id);
    assert.equal(mes.clean, true);
  }
});
