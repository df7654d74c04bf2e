import { createRouter } from '../../lib/create-router.js';
import * as handlers from './registry.handlers.js';
import * as routes from './registry.routes.js';

export default createRouter()
  .openapi(routes.previewVerification, handlers.preview)
  .openapi(routes.submitVerification, handlers.submit)
  .openapi(routes.listVerifications, handlers.list)
  .openapi(routes.getPublicNotice, handlers.notice)
  .openapi(routes.listRegistryConflicts, handlers.conflicts)
  .openapi(routes.resolveRegistryConflict, handlers.resolve)
  .openapi(routes.getRegistrySummary, handlers.summary);
