// @custom-elements-manifest/analyzer configuration: `npm run build` writes custom-elements.json (the Custom Elements
// Manifest, referenced by package.json's "customElements") from the JSDoc of the element's class in src/video-chat.ts:
// @attr, @fires, @csspart, @cssprop and @cssState (custom states, `:state(…)`), plus the public members it finds.
// test/node/build/readme-api.test.ts checks that the README's API section lists the same names.

/** The analyzer also records every `dispatchEvent(new X(…))` it sees, without a name; @fires documents them all. */
function dropUnnamedEvents() {
  return {
    name: 'drop-unnamed-events',
    packageLinkPhase({ customElementsManifest }) {
      for (const mod of customElementsManifest.modules ?? []) {
        for (const declaration of mod.declarations ?? []) {
          if (declaration.events) declaration.events = declaration.events.filter((event) => event.name);
        }
      }
    },
  };
}

export default {
  globs: ['src/**/*.ts'],
  outdir: '.',
  litelement: true,
  packagejson: false,
  plugins: [dropUnnamedEvents()],
};
