/** Config text for the Odoo dry run tests: one MQTT source named `line` the rules read. */
export const LINE_SOURCE = `sources:
  - type: mqtt
    name: line
    url: mqtt://127.0.0.1:1883
    subscriptions:
      - topic: '#'
`;

/** An `odoo:` section whose key comes from EDGE_DRY_RUN_KEY. */
export function odooSection(odoo: { url: string; database: string; username: string }): string {
  return `odoo:
  url: ${odoo.url}
  database: ${odoo.database}
  username: ${odoo.username}
  apiKey: \${env:EDGE_DRY_RUN_KEY}
`;
}
