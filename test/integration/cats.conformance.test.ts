/** The cats' standard behaviour, from their description (lib/cats/schema.ts); what is particular to cats is in handlers.test.ts. */
import { conformance } from '../support/conformance.js';

conformance('cats');
