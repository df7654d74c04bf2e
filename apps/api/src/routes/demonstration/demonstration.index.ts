import { createRouter } from '../../lib/create-router.js';
import * as handlers from './demonstration.handlers.js';
import * as routes from './demonstration.routes.js';

// Demonstration villages 小康示范村/美丽家园: applications, assessments and village collective incomes.
export default createRouter()
  .openapi(routes.applyDemonstrationVillage, handlers.apply)
  .openapi(routes.listDemonstrationVillages, handlers.list)
  .openapi(routes.getDemonstrationVillage, handlers.get)
  .openapi(routes.assessDemonstrationVillage, handlers.assess)
  .openapi(routes.listDemonstrationAssessments, handlers.assessments)
  .openapi(routes.recordCollectiveIncome, handlers.recordIncome)
  .openapi(routes.listCollectiveIncomes, handlers.incomes);
