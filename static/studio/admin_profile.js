// The console's user-profile add form: a profile takes only its own domain's policies, so when
// the domain changes, the policy choices are reloaded, without a reload of the page, from the
// console's JSON view named in the policy select's data-policies-url
// (domains.admin.profiles.UserProfileAdmin.domain_policies_view). The server refuses another
// domain's policy anyway; this keeps the form from offering one.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const domain = document.getElementById("id_domain");
  const policies = document.getElementById("id_policies");
  if (!domain || !policies || !policies.dataset.policiesUrl) {
    return; // the change form: the domain is fixed, and so are its policies
  }
  let latest = 0;

  function show(choices) {
    policies.replaceChildren(...choices.map((p) => new Option(p.name, p.id)));
  }

  async function load() {
    const asked = ++latest;
    show([]);
    if (!domain.value) {
      return;
    }
    const url = new URL(policies.dataset.policiesUrl, window.location.href);
    url.searchParams.set("domain", domain.value);
    let choices;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok) {
        throw new Error(`HTTP ${response.status}`);
      }
      choices = (await response.json()).policies;
    } catch (error) {
      choices = null;
      console.error("Could not load the domain's policies:", error);
    }
    if (asked !== latest) {
      return; // the domain changed again meanwhile: that answer wins
    }
    if (choices === null) {
      const failed = new Option("Could not load this domain's policies; reload the page", "");
      failed.disabled = true;
      policies.replaceChildren(failed);
      return;
    }
    show(choices);
    policies.dataset.domain = domain.value;
  }

  domain.addEventListener("change", load);
  policies.dataset.ready = "true"; // listening: a domain chosen from now on loads its policies
});
