export { MqttSourceAdapter, createMqttSource, type MqttSourceOptions } from './adapter';
export { mqttAdapterKind } from './kind';
export {
  mqttSourceSchema,
  mqttOutSchema,
  subscriptionSchema,
  type MqttSourceConfig,
  type MqttSourceInput,
  type MqttOutConfig,
  type MqttOutInput,
  type MqttSubscription,
} from './config';
export { defaultClientId } from './connection';
export { MqttStatusPublisher, statusClientId, type AgentState, type PublishOptions, type MqttStatusPublisherOptions } from './publisher';
export { topicMatches, topicFilterProblem } from './topic';
export { decodePayload, type PayloadFormat } from './decode';
