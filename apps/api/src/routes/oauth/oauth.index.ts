import { createRouter } from '../../lib/create-router.js';
import * as handlers from './oauth.handlers.js';
import * as routes from './oauth.routes.js';

export default createRouter().openapi(routes.issueToken, handlers.token);
