import { createRouter } from '../../lib/create-router.js';
import * as handlers from './imports.handlers.js';
import * as routes from './imports.routes.js';

// The template route comes before /{id} so that "template" is not read as an id.
export default createRouter()
  .openapi(routes.createImport, handlers.create)
  .openapi(routes.listImports, handlers.list)
  .openapi(routes.getImportTemplate, handlers.template)
  .openapi(routes.getImport, handlers.get)
  .openapi(routes.getImportReport, handlers.report);
