/**
 * `staticCss`: a tag for CSS without interpolations. Lit's `css` tag also carries a checker for interpolated values
 * that these styles never use (about 150 bytes of the script-tag file). The name contains "css", so the build minifies
 * the CSS in it like any `css` template.
 * @module
 */
import { unsafeCSS, type CSSResult } from 'lit';

export const staticCss = (strings: TemplateStringsArray): CSSResult => unsafeCSS(strings[0]);
