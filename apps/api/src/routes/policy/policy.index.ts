import { createRouter } from '../../lib/create-router.js';
import * as handlers from './policy.handlers.js';
import * as routes from './policy.routes.js';

export default createRouter()
  .openapi(routes.listPolicyParameters, handlers.list)
  .openapi(routes.getPolicyParameter, handlers.get)
  .openapi(routes.setPolicyOverride, handlers.setOverride)
  .openapi(routes.deletePolicyOverride, handlers.deleteOverride)
  .openapi(routes.listPaymentModes, handlers.modes)
  .openapi(routes.setPaymentMode, handlers.setMode)
  .openapi(routes.deletePaymentMode, handlers.deleteMode);
