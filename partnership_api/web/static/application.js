// The pages' only script: GOV.UK Frontend's components, as progressive enhancement.
// Every page works without it. Loaded as a module with the page's CSP nonce; no inline script.
import { initAll } from '/assets/govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()
