// GOV.UK's timeout warning: a few minutes before the idle sign-out, a modal dialog says when
// it will happen and offers "Stay signed in" (a small POST with the page's CSRF token, which
// makes the session's last use now) or "Sign out". Another tab may have kept the session in
// use, so the page asks the server how long is left (asking is not a use) before warning.
// When the time runs out, a form the person had started is sent as it is: the server keeps it
// for them (it does nothing else with it) and gives it back after they sign in again.
// Every page works without this script: the session simply ends as before.
// Loaded as a module with the page's CSP nonce (base.html); no inline script or style.

const script = document.querySelector('script[data-ends-in][data-warn-before]')
const signOutForm = document.querySelector('form[action="/sign-out"]')

if (script && signOutForm && typeof HTMLDialogElement === 'function') {
  const warnBefore = Number(script.dataset.warnBefore) * 1000
  const token = signOutForm.querySelector('input[name="csrf_token"]').value
  let deadline = Date.now() + Number(script.dataset.endsIn) * 1000
  let timer = null
  let ticker = null
  let checking = false
  let dialog = null
  let returnFocus = null
  let spokenMinutes = null

  const stylesheet = document.createElement('link')
  stylesheet.rel = 'stylesheet'
  stylesheet.href = '/assets/timeout.css'
  document.head.append(stylesheet)

  const element = (tag, attributes = {}, text = '') => {
    const made = document.createElement(tag)
    for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, value)
    if (text) made.textContent = text
    return made
  }

  const inWords = (milliseconds) => {
    const seconds = Math.max(0, Math.ceil(milliseconds / 1000))
    if (seconds >= 60) {
      const minutes = Math.ceil(seconds / 60)
      return `${minutes} minute${minutes === 1 ? '' : 's'}`
    }
    return `${seconds} second${seconds === 1 ? '' : 's'}`
  }

  // The first form on the page (not signing out) in which something was typed or chosen.
  const startedForm = () => {
    for (const form of document.querySelectorAll('main form[method="post"]')) {
      for (const field of form.elements) {
        if (field.type === 'hidden' || field.type === 'submit' || field.disabled) continue
        if (field.type === 'checkbox' || field.type === 'radio') {
          if (field.checked !== field.defaultChecked) return form
        } else if (field.tagName === 'SELECT') {
          if ([...field.options].some((option) => option.selected !== option.defaultSelected)) return form
        } else if ('defaultValue' in field && field.value !== field.defaultValue) {
          return form
        }
      }
    }
    return null
  }

  // A field named "submit" would hide a form's own submit(): the prototype's is used.
  const submit = (form) => HTMLFormElement.prototype.submit.call(form)

  const schedule = () => {
    clearTimeout(timer)
    timer = setTimeout(check, Math.max(0, deadline - warnBefore - Date.now()))
  }

  // Seconds the session has left, as the server sees it; 0 once it has ended.
  const timeLeft = async () => {
    const response = await fetch('/session/time-left', {
      credentials: 'same-origin', redirect: 'manual', headers: { Accept: 'application/json' }
    })
    if (response.status !== 200) return 0
    return (await response.json()).ends_in
  }

  async function check () {
    if (checking) return
    checking = true
    try {
      deadline = Date.now() + (await timeLeft()) * 1000
    } catch {
      // No answer (offline): keep counting by this page's own clock.
    } finally {
      checking = false
    }
    const remaining = deadline - Date.now()
    if (remaining <= 0) {
      signedOut()
    } else if (remaining > warnBefore + 1000) {
      close()
      schedule()
    } else {
      warn()
    }
  }

  const build = () => {
    dialog = element('dialog', {
      class: 'app-timeout',
      'aria-labelledby': 'app-timeout-heading',
      'aria-describedby': 'app-timeout-message'
    })
    dialog.append(
      element('h2', { class: 'govuk-heading-m', id: 'app-timeout-heading' }),
      element('p', { class: 'govuk-body', id: 'app-timeout-message' }),
      element('p', { class: 'govuk-visually-hidden', 'aria-live': 'polite', id: 'app-timeout-spoken' }),
      element('div', { class: 'govuk-button-group' })
    )
    // Escape is "Stay signed in", as in GOV.UK's pattern: the person is clearly there.
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault()
      if (dialog.dataset.state === 'warning') stay()
    })
    document.body.append(dialog)
  }

  const buttons = (...made) => {
    const group = dialog.querySelector('.govuk-button-group')
    group.replaceChildren(...made)
  }

  const button = (text, classes, action) => {
    const made = element('button', { type: 'button', class: `govuk-button ${classes}`.trim() }, text)
    made.addEventListener('click', action)
    return made
  }

  const showCountdown = () => {
    const remaining = deadline - Date.now()
    if (remaining <= -1000) {
      check()
      return
    }
    dialog.querySelector('#app-timeout-message').textContent =
      `For your security, we will sign you out in ${inWords(remaining)}.`
    const minutes = Math.ceil(Math.max(0, remaining) / 60000)
    if (minutes !== spokenMinutes) {
      spokenMinutes = minutes
      dialog.querySelector('#app-timeout-spoken').textContent =
        `We will sign you out in ${inWords(remaining)}.`
    }
  }

  function warn () {
    if (!dialog) build()
    if (dialog.dataset.state !== 'warning') {
      dialog.dataset.state = 'warning'
      dialog.querySelector('#app-timeout-heading').textContent = 'You’re about to be signed out'
      buttons(
        button('Stay signed in', '', stay),
        button('Sign out', 'govuk-button--secondary', () => submit(signOutForm))
      )
      spokenMinutes = null
    }
    showCountdown()
    if (!dialog.open) {
      returnFocus = document.activeElement
      dialog.showModal()
      dialog.querySelector('button').focus()
    }
    clearInterval(ticker)
    ticker = setInterval(showCountdown, 1000)
  }

  function close () {
    clearInterval(ticker)
    if (dialog && dialog.open) {
      dialog.close()
      dialog.dataset.state = ''
      if (returnFocus && returnFocus.focus) returnFocus.focus()
    }
  }

  async function stay () {
    let answer = null
    try {
      const response = await fetch('/session/stay-signed-in', {
        method: 'POST',
        credentials: 'same-origin',
        redirect: 'manual',
        headers: { Accept: 'application/json', 'X-CSRFToken': token }
      })
      if (response.status === 200) answer = await response.json()
    } catch {
      answer = null
    }
    if (answer === null) {
      check()
      return
    }
    deadline = Date.now() + answer.ends_in * 1000
    close()
    schedule()
  }

  function signedOut () {
    clearInterval(ticker)
    clearTimeout(timer)
    if (!dialog) build()
    const form = startedForm()
    dialog.dataset.state = 'signed-out'
    dialog.querySelector('#app-timeout-heading').textContent = 'You have been signed out'
    const message = form
      ? 'For your security, we signed you out because you did nothing for a while. ' +
        'What you typed on this page will be kept for an hour: sign in again to carry on.'
      : 'For your security, we signed you out because you did nothing for a while.'
    dialog.querySelector('#app-timeout-message').textContent = message
    dialog.querySelector('#app-timeout-spoken').textContent = 'You have been signed out.'
    // The session has ended on the server: sending the form now only keeps it for them.
    const again = () => (form ? submit(form) : window.location.reload())
    buttons(button('Sign in again', '', again))
    if (!dialog.open) dialog.showModal()
    dialog.querySelector('button').focus()
  }

  schedule()
}
