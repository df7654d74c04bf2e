import { createRouter } from '../../lib/create-router.js';
import * as handlers from './disbursements.handlers.js';
import * as routes from './disbursements.routes.js';

// The summary comes before /{id} so that "summary" is not read as an id.
export default createRouter()
  .openapi(routes.createDisbursement, handlers.create)
  .openapi(routes.listDisbursements, handlers.list)
  .openapi(routes.getDisbursementSummary, handlers.summary)
  .openapi(routes.getDisbursement, handlers.get)
  .openapi(routes.recomputeDisbursement, handlers.recompute)
  .openapi(routes.cancelDisbursement, handlers.cancel)
  .openapi(routes.approveDisbursement, handlers.approve)
  .openapi(routes.exportDisbursement, handlers.exportFile)
  .openapi(routes.listDisbursementLines, handlers.lines)
  .openapi(routes.listDisbursementExclusions, handlers.exclusions)
  .openapi(routes.importBankReturn, handlers.importReturn)
  .openapi(routes.listBankReturns, handlers.returns)
  .openapi(routes.listReturnExceptions, handlers.exceptions)
  .openapi(routes.resolveReturnException, handlers.resolveException)
  .openapi(routes.writeOffPaymentLine, handlers.writeOff)
  .openapi(routes.listPersonPayments, handlers.personPayments);
