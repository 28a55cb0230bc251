/**
 * `npm run bench [-- name ...]`: runs the named benchmarks (all by default). Each prints the
 * figures its issue asks for beside a baseline measured in the same run.
 */
const ALL = ['ingest', 'query', 'anchor'] as const;

const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : [...ALL];
for (const name of names) {
  if (!(ALL as readonly string[]).includes(name)) {
    console.error(`unknown benchmark '${name}' (${ALL.join(', ')})`);
    process.exit(2);
  }
}
for (const name of names) {
  console.log(`\n=== ${name} ===`);
  const { default: run } = await import(`./${name}.ts`) as { default: () => Promise<void> };
  await run();
}
process.exit(0);
