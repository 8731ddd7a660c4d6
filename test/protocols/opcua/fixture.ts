/**
 * A real OPC UA server for tests and the benchmark: a small "Line1" machine
 * with a counter, a state code and a temperature that change on their own,
 * plus optional bulk variables.
 *
 * Runs in-process (`startTestServer`) or on its own:
 *   node .build/<you>/test/protocols/opcua/fixture.js [--port 4840] [--bulk 10000] [--secure]
 * It prints one JSON line {"ready":true,"port":...,"endpointUrl":...} on stdout once listening.
 */
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  DataType,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAServer,
  SecurityPolicy,
  StatusCodes,
  Variant,
  type DataValue,
  type StatusCode,
  VariantArrayType,
  setErrorLogger,
  setWarningLogger,
  type UAVariable,
  type AddressSpace,
  type Namespace,
} from 'node-opcua';

export interface TestServerOptions {
  /** TCP port; when absent a free one is picked. Pass the same port again to "restart" a server. */
  port?: number;
  /** PKI folder of the server (its own certificate, the clients it trusts). Reuse it across restarts. */
  pkiDir: string;
  /** Offer only secure endpoints (SignAndEncrypt, Basic256Sha256) and require a user name. */
  secure?: boolean;
  /** Accepted user name/password pairs (secure mode). */
  users?: Record<string, string>;
  /** How often the counter, state code and temperature change, ms. 0: never (tests set values themselves). */
  tickMs?: number;
  /** Add this many extra Double variables Bulk.V00000.. that all change every bulkTickMs. */
  bulk?: number;
  bulkTickMs?: number;
  /** How long the server takes to answer a write to SlowSetpoint, ms (default 2000). */
  slowWriteMs?: number;
  /** SpeedSetpoint accepts any Double but keeps at most this (a PLC clamping a setpoint; default 100). */
  speedLimit?: number;
  /**
   * Start with the press hydraulic alarm already active since this time (a
   * server that keeps its alarm states across a restart): severity and message
   * as given.
   */
  alarmActive?: { since: Date; severity: number; message: string };
}

/** The press hydraulic pressure alarm (AlarmConditionType) of the fixture, driven by the test. */
export interface TestAlarm {
  /** NodeId of the area object (an event notifier below the Server object) and of the press. */
  areaNodeId: string;
  /** Activate it (or change severity and message while active): one event. */
  raise(severity: number, message: string): void;
  /** Acknowledge the current state: one event. */
  acknowledge(comment: string): void;
  /** Back to normal: one event. */
  clear(message: string): void;
  /** The active state and when it last changed, as the server holds them. */
  state(): { active: boolean; transitionTime: Date | null };
  /** Raise an event of GarbledEventType (a subtype of BaseEventType without alarm fields) from the press. */
  garbled(): void;
  /** NodeId of GarbledEventType. */
  garbledType: string;
}

/** Variables for order release tests, by browse name: writable, read-only, not writable by the user, write-only, slow, clamping. */
export const RELEASE_VARIABLES = [
  'OrderNumber',
  'TargetQuantity',
  'BatchCount',
  'CycleTime',
  'SerialNumber',
  'Recipe',
  'StartCommand',
  'SlowSetpoint',
  'SpeedSetpoint',
] as const;
export type ReleaseVariable = (typeof RELEASE_VARIABLES)[number];

export interface TestServer {
  port: number;
  endpointUrl: string;
  /** NodeIds of the machine variables (namespace index as the server assigned it). */
  nodeIds: { counter: string; stateCode: string; temperature: string; bigCounter: string; bulk(i: number): string; release(name: ReleaseVariable): string };
  namespaceUri: string;
  /** Index of the test namespace on this server (for browse paths such as /Objects/<ns>:Line1/<ns>:Counter). */
  namespaceIndex: number;
  /** Set the temperature (Double) by hand. */
  setTemperature(value: number): void;
  setStateCode(value: number): void;
  /** Current counter value. */
  counter(): number;
  /** What a release variable holds on the server now. */
  valueOf(name: ReleaseVariable): unknown;
  /** Requests of one service the server received so far, e.g. "WriteRequest", "ReadRequest". */
  requestCount(service: string): number;
  /** Delete every subscription on the server but keep the sessions (a server that silently loses subscriptions). */
  dropSubscriptions(): number;
  /** Close every session from the server side, with its subscriptions (an administrator kicking clients, a session timeout). */
  closeSessions(): number;
  /** The alarm condition of Press1 (below the PressArea notifier). */
  alarm: TestAlarm;
  stop(): Promise<void>;
}

export const TEST_NAMESPACE = 'urn:odoo-edge-agent:test-plant';

/** A port that was free a moment ago: bind 127.0.0.1:0, read it, release it. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const port = options.port ?? (await freePort());
  mkdirSync(options.pkiDir, { recursive: true });
  const serverCertificateManager = new OPCUACertificateManager({
    rootFolder: options.pkiDir,
    // the test server accepts any client certificate; the agent side is what is under test
    automaticallyAcceptUnknownCertificate: true,
  });
  await serverCertificateManager.initialize();
  // user certificates (X509 login): accepted when unknown; kept next to the server's PKI, never in $HOME
  const userCertificateManager = new OPCUACertificateManager({ rootFolder: `${options.pkiDir}-users`, automaticallyAcceptUnknownCertificate: true });
  await userCertificateManager.initialize();
  const users = options.users ?? {};
  const server = new OPCUAServer({
    port,
    host: '127.0.0.1',
    hostname: '127.0.0.1',
    serverCertificateManager,
    userCertificateManager,
    securityModes: options.secure ? [MessageSecurityMode.SignAndEncrypt] : [MessageSecurityMode.None],
    securityPolicies: options.secure ? [SecurityPolicy.Basic256Sha256] : [SecurityPolicy.None],
    allowAnonymous: !options.secure,
    userManager: {
      isValidUser: (userName: string, password: string) => users[userName] !== undefined && users[userName] === password,
    },
    buildInfo: { productName: 'edge-agent test plant', buildNumber: '1', buildDate: new Date(0) },
    serverCapabilities: {
      maxSessions: 50,
      maxSubscriptions: 200,
      maxMonitoredItems: 100_000,
      maxMonitoredItemsPerSubscription: 100_000,
      operationLimits: { maxMonitoredItemsPerCall: 1000 },
    } as never,
  });
  await server.initialize();
  const addressSpace = server.engine.addressSpace!;
  const ns = addressSpace.registerNamespace(TEST_NAMESPACE);
  const nsIndex = ns.index;
  const line = ns.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: 'Line1', nodeId: 's=Line1' });

  let counter = 0;
  let stateCode = 1;
  let temperature = 20;
  let bigCounter = 2 ** 53 + 10; // beyond Number.MAX_SAFE_INTEGER: arrives as a string

  const counterVar = ns.addVariable({
    componentOf: line,
    browseName: 'Counter',
    nodeId: 's=Line1.Counter',
    dataType: 'UInt32',
    minimumSamplingInterval: 50,
    value: { dataType: DataType.UInt32, value: counter },
  });
  const stateVar = ns.addVariable({
    componentOf: line,
    browseName: 'StateCode',
    nodeId: 's=Line1.StateCode',
    dataType: 'Int16',
    minimumSamplingInterval: 50,
    value: { dataType: DataType.Int16, value: stateCode },
  });
  const temperatureVar = ns.addVariable({
    componentOf: line,
    browseName: 'Temperature',
    nodeId: 's=Line1.Temperature',
    dataType: 'Double',
    minimumSamplingInterval: 50,
    value: { dataType: DataType.Double, value: temperature },
  });
  const bigVar = ns.addVariable({
    componentOf: line,
    browseName: 'BigCounter',
    nodeId: 's=Line1.BigCounter',
    dataType: 'UInt64',
    minimumSamplingInterval: 50,
    value: { dataType: DataType.UInt64, arrayType: VariantArrayType.Scalar, value: toUInt64(bigCounter) },
  });
  const set = (v: UAVariable, dataType: DataType, value: unknown) =>
    v.setValueFromSource(new Variant({ dataType, arrayType: VariantArrayType.Scalar, value }), StatusCodes.Good, new Date());

  // order release: what the agent writes
  const release = new Map<ReleaseVariable, UAVariable>();
  const releaseVariable = (name: ReleaseVariable, dataType: string | number, value: unknown, access: Record<string, string> = {}) =>
    release.set(
      name,
      ns.addVariable({
        componentOf: line,
        browseName: name,
        nodeId: `s=Line1.${name}`,
        dataType,
        accessLevel: 'CurrentRead | CurrentWrite',
        userAccessLevel: 'CurrentRead | CurrentWrite',
        ...access,
        value: { dataType: typeof dataType === 'number' ? DataType.Double : DataType[dataType as keyof typeof DataType], value },
      }),
    );
  releaseVariable('OrderNumber', 'String', '');
  releaseVariable('TargetQuantity', 'Double', 0);
  releaseVariable('BatchCount', 'Int32', 0);
  releaseVariable('CycleTime', 290 /* Duration, a subtype of Double */, 0);
  releaseVariable('SerialNumber', 'String', 'SN-0001', { accessLevel: 'CurrentRead', userAccessLevel: 'CurrentRead' });
  releaseVariable('Recipe', 'Int32', 7, { userAccessLevel: 'CurrentRead' });
  releaseVariable('StartCommand', 'Boolean', false, { accessLevel: 'CurrentWrite', userAccessLevel: 'CurrentWrite' });
  let slowSetpoint = 0;
  release.set(
    'SlowSetpoint',
    ns.addVariable({
      componentOf: line,
      browseName: 'SlowSetpoint',
      nodeId: 's=Line1.SlowSetpoint',
      dataType: 'Double',
      minimumSamplingInterval: 100,
      value: {
        get: () => new Variant({ dataType: DataType.Double, value: slowSetpoint }),
        set: (variant: Variant, callback: (err: Error | null, statusCode?: StatusCode) => void) => {
          setTimeout(() => {
            slowSetpoint = variant.value as number;
            callback(null, StatusCodes.Good);
          }, options.slowWriteMs ?? 2000);
        },
      },
    }),
  );

  let speedSetpoint = 0;
  release.set(
    'SpeedSetpoint',
    ns.addVariable({
      componentOf: line,
      browseName: 'SpeedSetpoint',
      nodeId: 's=Line1.SpeedSetpoint',
      dataType: 'Double',
      minimumSamplingInterval: 100,
      value: {
        get: () => new Variant({ dataType: DataType.Double, value: speedSetpoint }),
        set: (variant: Variant) => {
          speedSetpoint = Math.min(variant.value as number, options.speedLimit ?? 100);
          return StatusCodes.Good;
        },
      },
    }),
  );

  const alarm = addPressAlarm(addressSpace, ns, options.alarmActive);

  const bulkVars: UAVariable[] = [];
  if (options.bulk && options.bulk > 0) {
    const bulk = ns.addFolder(addressSpace.rootFolder.objects, { browseName: 'Bulk', nodeId: 's=Bulk' });
    for (let i = 0; i < options.bulk; i++) {
      const name = bulkName(i);
      bulkVars.push(
        ns.addVariable({
          componentOf: bulk,
          browseName: name,
          nodeId: `s=Bulk.${name}`,
          dataType: 'Double',
          minimumSamplingInterval: 100,
          value: { dataType: DataType.Double, value: 0 },
        }),
      );
    }
  }

  const timers: NodeJS.Timeout[] = [];
  if ((options.tickMs ?? 200) > 0) {
    timers.push(
      setInterval(() => {
        counter += 1;
        stateCode = (stateCode % 3) + 1;
        temperature = Math.round((temperature + (Math.random() - 0.5)) * 100) / 100;
        bigCounter += 1;
        set(counterVar, DataType.UInt32, counter);
        set(stateVar, DataType.Int16, stateCode);
        set(temperatureVar, DataType.Double, temperature);
        set(bigVar, DataType.UInt64, toUInt64(bigCounter));
      }, options.tickMs ?? 200),
    );
  }
  if (bulkVars.length > 0) {
    let tick = 0;
    timers.push(
      setInterval(() => {
        tick += 1;
        const now = new Date();
        for (let i = 0; i < bulkVars.length; i++) {
          bulkVars[i]!.setValueFromSource(new Variant({ dataType: DataType.Double, value: tick + i / 100000 }), StatusCodes.Good, now);
        }
      }, options.bulkTickMs ?? 1000),
    );
  }

  const requests = new Map<string, number>();
  server.on('request', (request: object) => requests.set(request.constructor.name, (requests.get(request.constructor.name) ?? 0) + 1));

  await server.start();
  let stopped = false;
  return {
    port,
    endpointUrl: `opc.tcp://127.0.0.1:${port}`,
    namespaceUri: TEST_NAMESPACE,
    namespaceIndex: nsIndex,
    nodeIds: {
      counter: `ns=${nsIndex};s=Line1.Counter`,
      stateCode: `ns=${nsIndex};s=Line1.StateCode`,
      temperature: `ns=${nsIndex};s=Line1.Temperature`,
      bigCounter: `ns=${nsIndex};s=Line1.BigCounter`,
      bulk: (i: number) => `ns=${nsIndex};s=Bulk.${bulkName(i)}`,
      release: (name: ReleaseVariable) => `ns=${nsIndex};s=Line1.${name}`,
    },
    // the stored value itself: readValue() would refuse the write-only StartCommand
    valueOf: (name: ReleaseVariable) => {
      if (name === 'SlowSetpoint') return slowSetpoint;
      if (name === 'SpeedSetpoint') return speedSetpoint;
      return (release.get(name) as unknown as { $dataValue: DataValue }).$dataValue.value.value;
    },
    setTemperature(value: number) {
      temperature = value;
      set(temperatureVar, DataType.Double, value);
    },
    setStateCode(value: number) {
      stateCode = value;
      set(stateVar, DataType.Int16, value);
    },
    counter: () => counter,
    requestCount: (service: string) => requests.get(service) ?? 0,
    dropSubscriptions() {
      let n = 0;
      for (const session of server.engine.getSessions()) {
        for (const sub of [...session.publishEngine.subscriptions]) {
          session.deleteSubscription(sub.id);
          n += 1;
        }
      }
      return n;
    },
    alarm,
    closeSessions() {
      const sessions = server.engine.getSessions();
      for (const session of sessions) server.engine.closeSession(session.authenticationToken, true, 'Forcing');
      return sessions.length;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const t of timers) clearInterval(t);
      await server.shutdown(0);
      await serverCertificateManager.dispose().catch(() => undefined);
      await userCertificateManager.dispose().catch(() => undefined);
    },
  };
}

/**
 * Server -> PressArea (notifier) -> Press1 (event source) with the alarm
 * condition HydraulicPressureAlarm, so its events reach subscribers of the
 * Server object and of the area.
 */
function addPressAlarm(addressSpace: AddressSpace, ns: Namespace, activeAtStart: TestServerOptions['alarmActive']): TestAlarm {
  // binds ConditionRefresh, Acknowledge, ... (a server without it answers ConditionRefresh with BadInternalError)
  addressSpace.installAlarmsAndConditionsService();
  const server = addressSpace.rootFolder.objects.server;
  const area = ns.addObject({
    organizedBy: addressSpace.rootFolder.objects,
    browseName: 'PressArea',
    nodeId: 's=PressArea',
    eventNotifier: 1,
    notifierOf: server,
  });
  const press = ns.addObject({ componentOf: area, browseName: 'Press1', nodeId: 's=Press1', eventNotifier: 1, eventSourceOf: area });
  const pressure = ns.addVariable({
    componentOf: press,
    browseName: 'HydraulicPressure',
    nodeId: 's=Press1.HydraulicPressure',
    dataType: 'Double',
    value: { dataType: DataType.Double, value: 180 },
  });
  const condition = ns.instantiateAlarmCondition('AlarmConditionType', {
    browseName: 'HydraulicPressureAlarm',
    nodeId: 's=Press1.HydraulicPressureAlarm',
    componentOf: press,
    conditionSource: press,
    conditionName: 'HydraulicPressureAlarm',
    inputNode: pressure,
    optionals: ['ActiveState.TransitionTime'],
  });
  condition.setEnabledState(true);
  // node-opcua fills SourceName with the qualified browse name ("2:Press1"); a PLC gives the plain name
  condition.sourceName.setValueFromSource({ dataType: DataType.String, value: 'Press1' });
  const garbledType = ns.addEventType({ browseName: 'GarbledEventType', subtypeOf: 'BaseEventType' });
  const activeTransition = () => {
    const t = condition.activeState.transitionTime?.readValue().value.value;
    return t instanceof Date ? t : null;
  };
  const raise = (severity: number, message: string) => {
    if (!condition.activeState.getValue()) condition.activateAlarm();
    condition.raiseNewCondition({ severity, message, retain: true, quality: StatusCodes.Good });
  };
  if (activeAtStart) {
    raise(activeAtStart.severity, activeAtStart.message);
    // a server that kept the state: the activation keeps its original time
    condition.activeState.transitionTime!.setValueFromSource({ dataType: DataType.DateTime, value: activeAtStart.since });
    condition.currentBranch().setActiveState(true);
  }
  return {
    areaNodeId: `ns=${ns.index};s=PressArea`,
    garbledType: garbledType.nodeId.toString(),
    raise,
    acknowledge(comment: string) {
      condition.acknowledgeAndAutoConfirmBranch(condition.currentBranch(), comment);
    },
    clear(message: string) {
      condition.deactivateAlarm(false);
      condition.raiseNewCondition({ severity: 100, message, retain: false, quality: StatusCodes.Good });
    },
    state: () => ({ active: condition.activeState.getValue(), transitionTime: activeTransition() }),
    garbled() {
      press.raiseEvent(garbledType, {
        sourceName: { dataType: DataType.String, value: 'Press1' },
        severity: { dataType: DataType.UInt16, value: 900 },
        message: { dataType: DataType.LocalizedText, value: { text: 'garbled' } },
      });
    },
  };
}

function bulkName(i: number): string {
  return `V${String(i).padStart(5, '0')}`;
}

/** node-opcua carries 64-bit integers as [high, low] 32-bit words. */
function toUInt64(n: number): [number, number] {
  const big = BigInt(n);
  return [Number(big >> 32n), Number(big & 0xffffffffn)];
}

if (require.main === module) {
  // stdout carries only the ready line; the library's own messages go to stderr
  const toStderr = (...args: unknown[]) => process.stderr.write(`${args.slice(1).map(String).join(' ')}\n`);
  setWarningLogger(toStderr);
  setErrorLogger(toStderr);
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const secure = process.argv.includes('--secure');
  startTestServer({
    port: arg('port') ? Number(arg('port')) : undefined,
    pkiDir: arg('pki') ?? join(tmpdir(), 'edge-agent-opcua-fixture-pki'),
    secure,
    users: secure ? { operator: 'operator-secret' } : undefined,
    bulk: arg('bulk') ? Number(arg('bulk')) : 0,
    tickMs: arg('tick') ? Number(arg('tick')) : 200,
  }).then(
    (srv) => {
      process.stdout.write(
        `${JSON.stringify({ ready: true, port: srv.port, endpointUrl: srv.endpointUrl, nodeIds: { counter: srv.nodeIds.counter, stateCode: srv.nodeIds.stateCode, temperature: srv.nodeIds.temperature, bulk0: srv.nodeIds.bulk(0) } })}\n`,
      );
      const shutdown = () => {
        srv.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.on('SIGINT', shutdown);
      process.on('SIGTERM', shutdown);
    },
    (err: unknown) => {
      process.stderr.write(`cannot start the test OPC UA server: ${String(err)}\n`);
      process.exit(1);
    },
  );
}
