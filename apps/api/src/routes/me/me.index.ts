import { createRouter } from '../../lib/create-router.js';
import * as handlers from './me.handlers.js';
import * as routes from './me.routes.js';

export default createRouter().openapi(routes.getMe, handlers.me);
