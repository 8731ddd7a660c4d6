/** The Odoo simulator used by the tests and by `edge-agent demo`. */
export { PLAIN_BOT_GROUPS, startOdooSim, type OdooSim, type OdooSimOptions, type RequestRecord } from './server';
export { SimFaults, type FaultSpec, type FaultKind, type ActiveFault } from './faults';
export { SimState } from './state';
