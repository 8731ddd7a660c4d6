import { AgentError } from '../../errors';

/** Rejects with OPCUA_TIMEOUT when `p` has not settled within `ms`: a server that stops answering must not hold a step forever. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AgentError('OPCUA_TIMEOUT', `${what} did not answer within ${ms} ms`, { retryable: true })), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
