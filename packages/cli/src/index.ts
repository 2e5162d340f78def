export { gatewayCommand, gatewayHelp } from './commands/gateway.js';
