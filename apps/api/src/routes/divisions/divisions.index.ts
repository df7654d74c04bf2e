import { createRouter } from '../../lib/create-router.js';
import * as handlers from './divisions.handlers.js';
import * as routes from './divisions.routes.js';

export default createRouter()
  .openapi(routes.listDivisions, handlers.list)
  .openapi(routes.getDivision, handlers.get);
