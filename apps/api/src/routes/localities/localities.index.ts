import { createRouter } from '../../lib/create-router.js';
import * as handlers from './localities.handlers.js';
import * as routes from './localities.routes.js';

export default createRouter()
  .openapi(routes.listLocalities, handlers.list)
  .openapi(routes.getLocality, handlers.get)
  .openapi(routes.createLocality, handlers.create)
  .openapi(routes.updateLocality, handlers.update);
