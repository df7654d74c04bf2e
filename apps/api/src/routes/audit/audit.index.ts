import { createRouter } from '../../lib/create-router.js';
import * as handlers from './audit.handlers.js';
import * as routes from './audit.routes.js';

export default createRouter()
  .openapi(routes.verifyAuditChains, handlers.verify)
  .openapi(routes.listAuditEvents, handlers.list);
