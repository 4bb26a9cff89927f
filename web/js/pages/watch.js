// Placeholder: this page is being built (issue 13).
import { heading } from "../dom.js";

/** @param {import("../../app.js").Ctx} ctx */
export function render(ctx) {
  ctx.root.replaceChildren(heading(2, "watch"));
}
