import { createRouter } from '../../lib/create-router.js';
import { tokenHandler } from './oauth.handlers.js';
import * as routes from './oauth.routes.js';

/** A router per app: its throttles hold that app's counts. */
export const createOAuthRouter = () => createRouter().openapi(routes.issueToken, tokenHandler());
