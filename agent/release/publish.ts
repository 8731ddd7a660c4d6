import { errorMessage } from '../errors';
import type { Logger } from '../log';
import type { MqttStatusPublisher } from '../protocols/mqtt/publisher';
import { topicMatches } from '../protocols/mqtt/topic';
import { isReleaseMessage, type ReleaseTopics } from './orders';

/** What the MQTT side asks of the release. */
export interface PublishHooks {
  /** The message the release holds for this topic now: an object, '' (nothing: empty it), or undefined (not a release topic). */
  current(topic: string): Record<string, unknown> | '' | undefined;
  /** True once the list was read from Odoo at least once (before that, nothing left at the broker is called stale). */
  filled(): boolean;
  /** A message on the acknowledgement topic. */
  ack(topic: string, payload: Buffer): void;
  /** Content the release cannot use on one of its topics. */
  foreign(topic: string, raw: string): void;
}

/**
 * The release on MQTT, over the agent's own connection (`mqttOut`): retained
 * messages at QoS 1 by default, an empty retained message to remove one.
 * On every (re)connect the broker sends what it keeps under the release's
 * topics. Content that is not a release message, then or later, is reported
 * (and replaced where the release has a message for that topic); kept release
 * messages of orders that left while the agent was away are emptied.
 */
export class ReleaseMqtt {
  readonly counts = { published: 0, failed: 0, emptied: 0, foreign: 0 };
  lastError: string | null = null;

  constructor(
    private readonly out: MqttStatusPublisher,
    private readonly topics: ReleaseTopics,
    private readonly qos: 0 | 1 | 2,
    private readonly hooks: PublishHooks,
    private readonly log: Logger,
  ) {}

  /**
   * Listen to the release's topics and the acknowledgements. Resolves once the
   * broker has acknowledged the subscriptions (it has then sent what it keeps
   * under them, before anything the release publishes after), or after
   * `waitMs` while the broker is away.
   */
  async start(waitMs = 5000): Promise<void> {
    const subscribed = this.topics.filters.map((filter) =>
      this.out.subscribe(filter, this.qos, (topic, payload, retained) => this.retained(topic, payload, retained)),
    );
    if (this.topics.ack) subscribed.push(this.out.subscribe(this.topics.ack, this.qos, (topic, payload) => this.hooks.ack(topic, payload)));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(subscribed), new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  }

  /** Publish a retained message (an object as JSON, '' to empty the topic). Never rejects: a failure is counted and logged. */
  async put(topic: string, message: Record<string, unknown> | ''): Promise<boolean> {
    try {
      await this.out.publish(topic, message === '' ? '' : JSON.stringify(message), { retain: true, qos: this.qos });
      this.counts.published++;
      if (message === '') this.counts.emptied++;
      return true;
    } catch (err) {
      this.counts.failed++;
      this.lastError = errorMessage(err);
      this.log.warn({ topic, err: this.lastError }, `release: publishing on ${topic} failed: ${this.lastError}`);
      return false;
    }
  }

  private retained(topic: string, payload: Buffer, retained: boolean): void {
    if (payload.length === 0) return;
    if (this.topics.ack && topicMatches(this.topics.ack, topic)) return;
    const mine = this.hooks.current(topic);
    // Not a release message: someone else's, now or left from before.
    if (!isReleaseMessage(payload)) {
      this.counts.foreign++;
      this.hooks.foreign(topic, payload.toString('utf8'));
      if (mine) void this.put(topic, mine);
      return;
    }
    // Live release messages are the release's own, echoed. A kept one for a topic the release has nothing for: an order that left while the agent was away.
    if (retained && mine === undefined && this.hooks.filled() && !this.isStatusOrQueue(topic)) void this.put(topic, '');
  }

  private isStatusOrQueue(topic: string): boolean {
    return topic === this.topics.status || topicMatches(this.topics.filters[0]!, topic);
  }
}
