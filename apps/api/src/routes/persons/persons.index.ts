import { createRouter } from '../../lib/create-router.js';
import * as handlers from './persons.handlers.js';
import * as routes from './persons.routes.js';

export default createRouter()
  .openapi(routes.listHouseholds, handlers.listHouseholds)
  .openapi(routes.createHousehold, handlers.createHousehold)
  .openapi(routes.getHousehold, handlers.getHousehold)
  .openapi(routes.updateHousehold, handlers.updateHousehold)
  .openapi(routes.listPersons, handlers.listPersons)
  .openapi(routes.createPerson, handlers.createPerson)
  .openapi(routes.getPerson, handlers.getPerson)
  .openapi(routes.updatePerson, handlers.updatePerson)
  .openapi(routes.revealPerson, handlers.revealPerson)
  .openapi(routes.listPersonEvents, handlers.listPersonEvents)
  .openapi(routes.createPersonEvent, handlers.createPersonEvent)
  .openapi(routes.getPersonStatus, handlers.getPersonStatus);
