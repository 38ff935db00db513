import { main } from './program.js';

// The one place that ends the process.
process.exit(await main(process.argv));
