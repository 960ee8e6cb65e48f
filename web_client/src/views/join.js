// The join page: who you are, where you come from, and a look at your camera first.
import { h, fill, nextId } from '../dom.js'
import { lang, onLang, t } from '../i18n.js'
import { municipalities } from '../municipalities.js'
import { errorText, langSwitch } from './common.js'
import { icon } from '../icons.js'

const PROFILE_KEY = 'ledarstig:profile'

export function joinView({ local, onJoin, notice, meeting }) {
  const saved = readProfile()
  const name = field('join.name', h('input', { name: 'name', autocomplete: 'name', required: true, maxlength: '80', value: saved.name ?? '' }))
  const listId = nextId('municipalities')
  const muni = field('join.municipality', h('input', { name: 'municipality', list: listId, required: true, maxlength: '80', autocomplete: 'off', value: saved.municipality ?? '' }), 'join.municipality_help')
  const list = h('datalist', { id: listId })
  fillMunicipalities(list)
  const title = field('join.title', h('input', { name: 'title', maxlength: '80', autocomplete: 'organization-title', value: saved.title ?? '' }), 'join.title_help')
  const error = h('p', { class: 'form-error', role: 'alert' })
  // What the error says is kept as a key or a server error, so a language switch re-says it.
  let shown = null
  const showError = (what) => { shown = what; error.textContent = what === null ? '' : typeof what === 'string' ? t(what) : errorText(what) }
  onLang(() => showError(shown))
  const about = h('div', { class: 'join-about' })
  const button = h('button', { type: 'submit', class: 'primary big', i18n: 'join.submit' })
  const preview = mediaPreview(local)

  const form = h('form', { class: 'join-form', novalidate: true }, name.wrap, muni.wrap, list, title.wrap, error, button)
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    const profile = {
      name: name.input.value.trim(),
      municipality: muni.input.value.trim(), // the server canonicalises it
      title: title.input.value.trim(),
    }
    const missing = !profile.name ? name : !profile.municipality ? muni : null
    if (missing) {
      showError(missing === name ? 'join.need_name' : 'join.need_municipality')
      missing.input.setAttribute('aria-invalid', 'true')
      missing.input.focus()
      return
    }
    if (!profile.title) delete profile.title
    showError(null)
    button.disabled = true
    try {
      writeProfile(profile)
      await onJoin(profile)
    } catch (err) {
      showError(err)
      button.disabled = false
    }
  })

  const page = h('main', { class: 'join', id: 'main' },
    h('header', { class: 'join-top' }, h('span', { class: 'brand' }, 'Ledarstig'), langSwitch()),
    h('div', { class: 'join-body' },
      h('section', { class: 'join-card', 'aria-labelledby': 'join-heading' },
        h('h1', { id: 'join-heading', i18n: 'join.heading' }),
        about,
        h('p', { class: 'lead', i18n: 'join.lead' }),
        h('p', { class: 'join-recorded', i18n: 'join.recorded' }),
        notice ? h('p', { class: 'info-box', role: 'status', i18n: notice }) : null,
        form),
      preview),
    h('footer', { class: 'join-foot' }, statementLink()))
  /** The meeting this link is for, and whether it makes you a facilitator: from the
   *  handshake's `meeting` event and from `invite.info`, whichever comes first. */
  let info = {}
  page.setInfo = (more) => {
    info = { ...info, ...more }
    fill(about,
      info.title ? h('p', { class: 'join-meeting', i18n: 'join.meeting', vars: { title: info.title } }) : null,
      info.role === 'facilitator' ? h('p', { class: 'info-box join-role', i18n: 'join.as_facilitator' }) : null)
  }
  if (meeting?.title) page.setInfo({ title: meeting.title })
  return page
}

/** The server's canonical list of municipalities, named in the viewer's language. */
async function fillMunicipalities(list) {
  try {
    const all = await municipalities()
    const render = () => fill(list, all.map((m) => {
      const [name, other] = lang() === 'fi' ? [m.fi, m.sv] : [m.sv, m.fi]
      return h('option', { value: name }, other !== name ? other : '')
    }))
    render()
    onLang(render)
  } catch { /* the field still takes any name */ }
}

function field(label, input, help) {
  const id = nextId('f')
  input.id = id
  const helpEl = help ? h('small', { id: `${id}-help`, class: 'help', i18n: help }) : null
  if (helpEl) input.setAttribute('aria-describedby', helpEl.id)
  input.addEventListener('input', () => input.removeAttribute('aria-invalid'))
  const wrap = h('div', { class: 'field' }, h('label', { for: id, i18n: label }), input, helpEl)
  return { wrap, input }
}

/** Camera preview, device choice and the mic/camera switches, before joining. */
function mediaPreview(local) {
  const video = h('video', { class: 'preview-video', autoplay: true, muted: true, playsInline: true, 'aria-hidden': 'true' })
  const status = h('p', { class: 'preview-status', role: 'status' })
  const audioSelect = h('select', { id: nextId('mic') })
  const videoSelect = h('select', { id: nextId('cam') })
  const micToggle = h('button', { type: 'button', class: 'toggle' })
  const camToggle = h('button', { type: 'button', class: 'toggle' })
  const retry = h('button', { type: 'button', i18n: 'media.retry', hidden: true, onClick: () => local.start() })

  audioSelect.addEventListener('change', () => local.useDevice('audio', audioSelect.value))
  videoSelect.addEventListener('change', () => local.useDevice('video', videoSelect.value))
  micToggle.addEventListener('click', () => local.setMic(!local.mic))
  camToggle.addEventListener('click', () => local.setCamera(!local.camera))

  async function refresh() {
    video.srcObject = local.videoTrack ? local.stream : null
    video.hidden = !local.videoTrack || !local.camera
    status.textContent = local.error ? t(`media.error.${local.error}`) : ''
    retry.hidden = !local.error
    micToggle.classList.toggle('off', !local.mic)
    micToggle.textContent = t(local.mic ? 'controls.mic_on' : 'controls.mic_off')
    micToggle.disabled = !local.audioTrack
    camToggle.classList.toggle('off', !local.camera)
    camToggle.textContent = t(local.camera ? 'controls.camera_on' : 'controls.camera_off')
    camToggle.disabled = !local.videoTrack
    const devices = await local.devices()
    fillDevices(audioSelect, devices.audio, local.audioTrack)
    fillDevices(videoSelect, devices.video, local.videoTrack)
  }
  local.onChange(refresh)
  onLang(refresh)
  refresh()

  return h('section', { class: 'preview', 'aria-labelledby': 'preview-heading' },
    h('h2', { id: 'preview-heading', i18n: 'join.preview' }),
    h('div', { class: 'preview-frame' }, video, h('div', { class: 'preview-off', 'aria-hidden': 'true' }, icon('cameraOff'))),
    status, retry,
    h('div', { class: 'preview-toggles' }, micToggle, camToggle),
    h('div', { class: 'field' }, h('label', { for: audioSelect.id, i18n: 'media.microphone' }), audioSelect),
    h('div', { class: 'field' }, h('label', { for: videoSelect.id, i18n: 'media.camera' }), videoSelect))
}

function fillDevices(select, devices, track) {
  const current = track?.getSettings().deviceId
  fill(select, devices.length
    ? devices.map((d, i) => h('option', { value: d.deviceId, selected: d.deviceId === current }, d.label || t('media.device', { n: i + 1 })))
    : h('option', { value: '' }, t('media.no_device')))
  select.disabled = devices.length === 0
}

function readProfile() {
  try { return JSON.parse(localStorage.getItem(PROFILE_KEY)) ?? {} } catch { return {} }
}

function writeProfile(profile) {
  try { localStorage.setItem(PROFILE_KEY, JSON.stringify(profile)) } catch { /* private mode */ }
}

function statementLink() {
  const link = h('a', { href: `/accessibility?lang=${lang()}`, i18n: 'a11y.link' })
  onLang((code) => { link.href = `/accessibility?lang=${code}` })
  return link
}
