import { createRouter } from '../../lib/create-router.js';

export default createRouter();
