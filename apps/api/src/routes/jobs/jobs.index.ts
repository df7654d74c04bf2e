import { createRouter } from '../../lib/create-router.js';
import * as handlers from './jobs.handlers.js';
import * as routes from './jobs.routes.js';

export default createRouter().openapi(routes.getJob, handlers.get);
