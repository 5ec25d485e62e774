// Validates each HAR file named on the command line with har-validator
// (HAR 1.2 JSON schema); exits 1 with the errors when one is invalid.
'use strict';
const fs = require('fs');
const validator = require('har-validator');

async function main() {
  let failed = false;
  for (const file of process.argv.slice(2)) {
    const har = JSON.parse(fs.readFileSync(file, 'utf8'));
    try {
      await validator.har(har);
      console.log(`${file}: valid HAR`);
    } catch (e) {
      failed = true;
      console.error(`${file}: ${e.message}`);
      console.error(JSON.stringify(e.errors, null, 2));
    }
  }
  process.exit(failed ? 1 : 0);
}
main();
