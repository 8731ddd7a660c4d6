export { sparkplugAdapterKind, createSparkplugSource } from './kind';
export { sparkplugSourceSchema, type SparkplugSourceConfig, type SparkplugSourceInput } from './config';
export { SparkplugReader } from './reader';
export { EdgeNodes, ONLINE_METRIC } from './nodes';
export { readPayload, metricValue, signed64, unsigned64 } from './decode';
export { parseTopic, subscriptionFilters, commandTopic, stateTopic } from './topic';
