import { createRouter } from '../../lib/create-router.js';
import * as handlers from './vocational-aid.handlers.js';
import * as routes from './vocational-aid.routes.js';

// Vocational education aid for migrants' children 移民子女职业教育资助: apply → village posting →
// township review → county payment (or the county's rejection).
export default createRouter()
  .openapi(routes.createApplication, handlers.create)
  .openapi(routes.listApplications, handlers.list)
  .openapi(routes.getApplication, handlers.get)
  .openapi(routes.postApplication, handlers.post)
  .openapi(routes.reviewApplication, handlers.review)
  .openapi(routes.payApplication, handlers.pay)
  .openapi(routes.rejectApplication, handlers.reject);
