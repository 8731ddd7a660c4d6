/**
 * What went wrong while connecting, in the words a plant engineer acts on.
 * Pure: it reads node-opcua's error text, nothing else.
 */

export type OpcuaFailureCode =
  /** The server's certificate is not in the agent's trust list (or is expired, revoked, ...). */
  | 'OPCUA_SERVER_CERTIFICATE'
  /** The server refused the agent's own certificate: it must be added to the server's trust list. */
  | 'OPCUA_CLIENT_CERTIFICATE'
  /** The user name/password or user certificate was refused. */
  | 'OPCUA_AUTH'
  /** The server offers no endpoint with the configured securityMode and securityPolicy. */
  | 'OPCUA_ENDPOINT'
  /** The server cannot be reached (refused, timed out, name not resolved). */
  | 'OPCUA_UNREACHABLE'
  /** Anything else. */
  | 'OPCUA_CONNECT_FAILED';

export interface OpcuaFailure {
  code: OpcuaFailureCode;
  /** A short explanation with what to do. */
  message: string;
  /** The OPC UA status name when the text carried one (BadUserAccessDenied, ...). */
  status?: string;
  /** A person must act (trust lists, passwords, config); retrying alone will not fix it. */
  needsPerson: boolean;
}

export function classifyConnectFailure(errorText: string, endpointUrl: string): OpcuaFailure {
  const status = /\b(Bad[A-Za-z]+)\b/.exec(errorText)?.[1];
  const firstLine = errorText.split('\n')[0]!.trim();

  if (/server certificate verification failed|server's certificate verification/i.test(errorText)) {
    const why = status === 'BadCertificateUntrusted' || !status ? "is not in the agent's trust list" : `was refused (${status})`;
    return {
      code: 'OPCUA_SERVER_CERTIFICATE',
      status,
      needsPerson: true,
      message: `the certificate of ${endpointUrl} ${why}; check it with "edge-agent certs list" and trust it with "edge-agent certs trust <thumbprint>"`,
    };
  }
  if (status && /^(BadUserAccessDenied|BadIdentityTokenRejected|BadIdentityTokenInvalid|BadUserSignatureInvalid)$/.test(status)) {
    return {
      code: 'OPCUA_AUTH',
      status,
      needsPerson: true,
      message: `${endpointUrl} refused the agent's login (${status}): check auth in the config and the user on the server`,
    };
  }
  if (
    status &&
    /^(BadSecurityChecksFailed|BadCertificateUntrusted|BadCertificateInvalid|BadCertificateUriInvalid|BadCertificateTimeInvalid|BadCertificateUseNotAllowed)$/.test(
      status,
    )
  ) {
    return {
      code: 'OPCUA_CLIENT_CERTIFICATE',
      status,
      needsPerson: true,
      message: `${endpointUrl} refused the agent's certificate (${status}): add the agent's certificate (own, in "edge-agent certs list") to the server's trusted certificates`,
    };
  }
  if (/cannot find endpoint|Cannot find an Endpoint matching|BadSecurityPolicyRejected|BadSecurityModeRejected/i.test(errorText)) {
    return {
      code: 'OPCUA_ENDPOINT',
      status,
      needsPerson: true,
      message: `${endpointUrl} offers no endpoint with this securityMode/securityPolicy: check what the server offers and set both in the config`,
    };
  }
  if (
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|socket has been disconnected|connection may have been rejected|premature/i.test(
      errorText,
    )
  ) {
    return { code: 'OPCUA_UNREACHABLE', status, needsPerson: false, message: `cannot reach ${endpointUrl}: ${firstLine}` };
  }
  return { code: 'OPCUA_CONNECT_FAILED', status, needsPerson: false, message: `connection to ${endpointUrl} failed: ${firstLine}` };
}
