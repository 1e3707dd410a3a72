// @custom-elements-manifest/analyzer configuration: `npm run build` writes custom-elements.json (the Custom Elements
// Manifest, referenced by package.json's "customElements" and exported as `video-chat-element/custom-elements.json`)
// from the JSDoc of the element's class in src/video-chat.ts: @attr, @fires, @csspart, @cssprop and @cssState (custom
// states, `:state(…)`), plus the public members it finds.
// test/node/build/readme-api.test.ts checks that the README's API section lists the same names, and
// test/node/build/package.test.ts that the manifest names shipped files and no private member.
//
// The manifest describes the package's public modules (what src/index.ts exports), with the paths of the files that
// ship (lib/src/….js, types in lib/src/….d.ts), and the framework and editor data
// generated from it by the cem-tools plugins into lib/types/ (exported by package.json, see README "Frameworks"):
//   react.d.ts                      React 19 JSX (`React.JSX.IntrinsicElements`), @wc-toolkit/jsx-types
//   vue.d.ts                        Vue `GlobalComponents`, custom-element-vuejs-integration
//   vscode.{html,css}-custom-data.json  VS Code custom data, custom-element-vs-code-integration
//   web-types.json                  JetBrains web-types, custom-element-jet-brains-integration
import { generateJsxTypes } from '@wc-toolkit/jsx-types';
import { customElementJetBrainsPlugin } from 'custom-element-jet-brains-integration';
import { customElementVsCodePlugin } from 'custom-element-vs-code-integration';
import { customElementVuejsPlugin } from 'custom-element-vuejs-integration';

/** Where the generated framework typings and editor data go (shipped, see package.json "files" and "exports"). */
const TYPES_DIR = './lib/types';
/**
 * The package's entry as the generated typings import it (the element's class and its event classes): relative to
 * TYPES_DIR, so it resolves however the package is installed, and type-only, so nothing runs.
 */
const ENTRY_TYPES = '../src/index.js';

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

/**
 * Leaves out what is not public API: members marked `private` or `protected` (TypeScript keywords or JSDoc), and
 * `#private` / `_underscored` names. The analyzer records them all with a `privacy` field; no maintained plugin drops
 * them (the analyzer's docs show this filter as a plugin example), so it is this one, run before the generators below.
 */
function dropNonPublicMembers() {
  const hidden = (member) =>
    member.privacy === 'private' ||
    member.privacy === 'protected' ||
    member.name.startsWith('#') ||
    member.name.startsWith('_');
  return {
    name: 'drop-non-public-members',
    packageLinkPhase({ customElementsManifest }) {
      for (const mod of customElementsManifest.modules ?? []) {
        for (const declaration of mod.declarations ?? []) {
          if (declaration.members) declaration.members = declaration.members.filter((member) => !hidden(member));
        }
      }
    },
  };
}

/** `src/video-chat.ts` → `lib/src/video-chat.js`: the compiled module the package ships (tsc's output, lib/src/). */
const shipped = (path) => path.replace(/^(\.\/|\/)?src\//, 'lib/src/').replace(/\.[jt]s$/, '.js');

/**
 * Points the manifest at the files that ship: every module `path` and every `module` reference (exports, superclasses,
 * type references) naming a source file `src/….ts` becomes `lib/src/….js`, and each module gets the non-standard but
 * common `typeDefinitionPath` (its `.d.ts`). @wc-toolkit/module-path-resolver does this for the custom element's own
 * module only (the other modules and the references stay on src/*.ts), hence this walk over the whole manifest.
 */
function shipPaths() {
  const walk = (node) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (
          (key === 'path' || key === 'module') &&
          typeof value === 'string' &&
          /^(\.\/|\/)?src\/.*\.[jt]s$/.test(value)
        ) {
          node[key] = shipped(value);
        } else walk(value);
      }
    }
  };
  return {
    name: 'ship-paths',
    packageLinkPhase({ customElementsManifest }) {
      walk(customElementsManifest);
      for (const mod of customElementsManifest.modules ?? []) {
        mod.typeDefinitionPath = mod.path.replace(/\.js$/, '.d.ts');
      }
    },
  };
}

/**
 * `lang` is documented with @attr (the element reads it, and its ancestors'), but it is HTMLElement's own `lang`
 * property: saying so keeps the generated typings from inventing a property named `undefined` for it.
 */
function globalAttributeFields() {
  const reflected = new Set(['lang', 'dir', 'title', 'hidden']);
  return {
    name: 'global-attribute-fields',
    packageLinkPhase({ customElementsManifest }) {
      for (const mod of customElementsManifest.modules ?? []) {
        for (const declaration of mod.declarations ?? []) {
          for (const attribute of declaration.attributes ?? []) {
            if (reflected.has(attribute.name) && !attribute.fieldName) attribute.fieldName = attribute.name;
          }
        }
      }
    },
  };
}

/**
 * React 19 and other JSX typings (@wc-toolkit/jsx-types, the maintained successor of custom-element-jsx-integration).
 * Its generator imports from `globalTypePath` only the names the element's module exports, while the event handler
 * props name the event classes (`JoinedEvent`, …) that src/events.ts exports: the generator is given the entry (which
 * exports both) and a copy of the manifest that lists the event classes among the element module's exports, so the
 * generated file imports every name it uses. The manifest that is written is not changed.
 */
function jsxTypes(options) {
  return {
    name: 'jsx-types',
    packageLinkPhase({ customElementsManifest }) {
      const copy = structuredClone(customElementsManifest);
      for (const mod of copy.modules ?? []) {
        const events = (mod.declarations ?? []).flatMap((d) => (d.customElement ? (d.events ?? []) : []));
        for (const name of new Set(events.map((event) => event.type?.text).filter((t) => /^[A-Z]\w*$/.test(t ?? '')))) {
          mod.exports = [...(mod.exports ?? []), { kind: 'js', name, declaration: { name, module: mod.path } }];
        }
      }
      generateJsxTypes(copy, options);
    },
  };
}

export default {
  // The modules src/index.ts exports from (the element, its events, errors and data shapes): the package's public
  // surface. Internal modules (call/, negotiation/, …) are not described.
  globs: [
    'src/index.ts',
    'src/video-chat.ts',
    // The element's base classes (its page API): the analyzer gives the element what it inherits from them.
    'src/call-api.ts',
    'src/element-attributes.ts',
    'src/hosts-api.ts',
    'src/events.ts',
    'src/errors.ts',
    'src/types.ts',
    'src/ui/strings.ts',
    'src/protocol/relay.ts',
  ],
  outdir: '.',
  litelement: true,
  packagejson: false,
  plugins: [
    dropUnnamedEvents(),
    dropNonPublicMembers(),
    globalAttributeFields(),
    shipPaths(),
    jsxTypes({ outdir: TYPES_DIR, fileName: 'react.d.ts', globalTypePath: ENTRY_TYPES, stronglyTypedEvents: true }),
    customElementVuejsPlugin({
      outdir: TYPES_DIR,
      fileName: 'vue.d.ts',
      globalTypePath: ENTRY_TYPES,
      hideLogs: true,
    }),
    customElementVsCodePlugin({
      outdir: TYPES_DIR,
      htmlFileName: 'vscode.html-custom-data.json',
      cssFileName: 'vscode.css-custom-data.json',
      hideLogs: true,
    }),
    customElementJetBrainsPlugin({
      outdir: TYPES_DIR,
      webTypesFileName: 'web-types.json',
      packageJson: false,
      hideLogs: true,
    }),
  ],
};
