import { createRouter } from '../../lib/create-router.js';
import * as implementation from './project-implementation.handlers.js';
import * as implementationRoutes from './project-implementation.routes.js';
import * as handlers from './projects.handlers.js';
import * as routes from './projects.routes.js';

// Post-support projects 后扶项目 with their approval route, implementation 项目实施 (progress, contracts,
// payments) and completion acceptance 竣工验收, fund allocations 资金下达 and balances 资金结存.
export default createRouter()
  .openapi(routes.createProject, handlers.create)
  .openapi(routes.listProjects, handlers.list)
  .openapi(routes.getProject, handlers.get)
  .openapi(routes.patchProject, handlers.patch)
  .openapi(routes.getProjectFunding, handlers.getFunding)
  .openapi(routes.putProjectFunding, handlers.funding)
  .openapi(routes.planProject, handlers.plan)
  .openapi(routes.submitProject, handlers.submit)
  .openapi(routes.reviewProject, handlers.review)
  .openapi(routes.changeProjectScope, handlers.changes)
  .openapi(routes.cancelProject, handlers.cancel)
  .openapi(routes.listProjectReviews, handlers.reviews)
  .openapi(implementationRoutes.createProgressReport, implementation.createProgress)
  .openapi(implementationRoutes.listProgressReports, implementation.progress)
  .openapi(implementationRoutes.createProjectContract, implementation.createContract)
  .openapi(implementationRoutes.listProjectContracts, implementation.contracts)
  .openapi(implementationRoutes.createProjectPayment, implementation.createPayment)
  .openapi(implementationRoutes.listProjectPayments, implementation.payments)
  .openapi(implementationRoutes.getProjectAcceptance, implementation.acceptance)
  .openapi(implementationRoutes.acceptProject, implementation.accept)
  .openapi(routes.createFundAllocation, handlers.createAllocation)
  .openapi(routes.listFundAllocations, handlers.allocations)
  .openapi(routes.listFundBalances, handlers.balances);
