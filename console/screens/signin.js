// Sign-in: locally a user name and a role for a dev token; on AWS a button to the Cognito hosted UI.

import { config, devSignIn, cognitoStart } from "../auth.js";
import { h, field } from "../dom.js";
import { form, pageTitle, showError, showStatus } from "../ui.js";

export async function render({ view, message, done }) {
  const c = config();
  view.append(pageTitle("Sign in to the OMS console"));
  if (message) showStatus(message);
  if (c.auth === "cognito") {
    view.append(
      h("p", null, "Sign in with your company account."),
      form({ class: "stack", id: "signin-form" }, [h("button", { type: "submit", class: "primary" }, "Sign in")], async () => {
        await cognitoStart(location.hash.startsWith("#/") ? location.hash : "#/");
      }),
    );
  } else {
    const user = field("User name", { name: "user", autocomplete: "username", value: "agent-ann", required: true, id: "signin-user" });
    const role = field("Role", {
      kind: "select",
      id: "signin-role",
      options: [
        { value: "oms/agent", label: "Agent" },
        { value: "oms/supervisor", label: "Supervisor" },
        { value: "oms/warehouse", label: "Store or warehouse staff" },
        { value: "oms/finance", label: "Finance" },
      ],
    });
    view.append(
      h("p", null, "Local runner: pick a user name and a role; the runner issues a development token."),
      form({ class: "stack narrow", id: "signin-form", "aria-label": "Sign in" },
        [user.wrap, role.wrap, h("button", { type: "submit", class: "primary" }, "Sign in")],
        async () => {
          const name = user.input.value.trim();
          if (!name) {
            showError(new Error("Enter a user name."));
            user.input.focus();
            return;
          }
          await devSignIn(name, role.input.value);
          done();
        }),
    );
  }
}
