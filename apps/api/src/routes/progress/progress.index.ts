import { createRouter } from '../../lib/create-router.js';
import * as handlers from './progress.handlers.js';
import * as routes from './progress.routes.js';

// 双过半 progress reporting: the counties' targets, their reported figures and the report per division.
export default createRouter()
  .openapi(routes.createProgressTarget, handlers.create)
  .openapi(routes.listProgressTargets, handlers.list)
  .openapi(routes.getProgressTarget, handlers.get)
  .openapi(routes.reportProgress, handlers.report)
  .openapi(routes.getProgressReport, handlers.progressReport);
