import { createRouter } from '../../lib/create-router.js';
import * as handlers from './training.handlers.js';
import * as routes from './training.routes.js';

// Training 移民培训: annual plans with their approval route, providers, calls for bids and selection,
// sessions with their cost against the approved budget and their attendance lists, and the plan-vs-done report (双过半).
export default createRouter()
  .openapi(routes.createTrainingPlan, handlers.createPlan)
  .openapi(routes.listTrainingPlans, handlers.listPlans)
  .openapi(routes.getTrainingPlan, handlers.getPlan)
  .openapi(routes.replaceTrainingPlan, handlers.replacePlan)
  .openapi(routes.submitTrainingPlan, handlers.submitPlan)
  .openapi(routes.reviewTrainingPlan, handlers.reviewPlan)
  .openapi(routes.createTrainingProvider, handlers.createProvider)
  .openapi(routes.listTrainingProviders, handlers.listProviders)
  .openapi(routes.createTrainingCall, handlers.createCall)
  .openapi(routes.getTrainingCall, handlers.getCall)
  .openapi(routes.createTrainingBid, handlers.createBid)
  .openapi(routes.selectTrainingProviders, handlers.selectProviders)
  .openapi(routes.createTrainingSession, handlers.createSession)
  .openapi(routes.listTrainingSessions, handlers.listSessions)
  // Before /{id}, so that "attendance-template" is not read as an id.
  .openapi(routes.getTrainingAttendanceTemplate, handlers.attendanceTemplate)
  .openapi(routes.getTrainingSession, handlers.getSession)
  .openapi(routes.importTrainingAttendance, handlers.importAttendanceList)
  .openapi(routes.trainingReport, handlers.report);
