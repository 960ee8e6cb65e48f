// The bar under the meeting: microphone, camera, screen, hand, reactions, devices.
import { h, fill, nextId, announce } from '../dom.js'
import { onLang, t } from '../i18n.js'
import { showError, toast } from './common.js'
import { icon } from '../icons.js'

export const EMOJI = ['👍', '👏', '❤️', '😂', '😮', '🎉', '🤔', '🙏']
const EMOJI_KEYS = ['thumbs', 'clap', 'heart', 'laugh', 'wow', 'party', 'thinking', 'thanks']

export class Controls {
  constructor({ store, conn, local, onBoardToggle }) {
    this.store = store
    this.conn = conn
    this.local = local
    this.boardOpen = false
    this.mic = h('button', { type: 'button', class: 'control', onClick: () => this.toggleMic() })
    this.camera = h('button', { type: 'button', class: 'control', onClick: () => this.toggleCamera() })
    this.screen = h('button', { type: 'button', class: 'control', onClick: () => this.toggleScreen() })
    this.hand = h('button', { type: 'button', class: 'control', onClick: () => this.toggleHand() })
    this.board = h('button', { type: 'button', class: 'control', onClick: () => onBoardToggle() })
    this.reactions = h('details', { class: 'popover reactions' },
      h('summary', { class: 'control', i18nLabel: 'controls.reactions' }, icon('smile'), h('span', { class: 'control-text', i18n: 'controls.reactions' })),
      h('div', { class: 'popover-menu reaction-menu', role: 'group', i18nLabel: 'controls.reactions' },
        EMOJI.map((emoji, i) => h('button', { type: 'button', class: 'emoji', i18nLabel: `reaction.${EMOJI_KEYS[i]}`, i18nTitle: `reaction.${EMOJI_KEYS[i]}`,
          onClick: () => { this.react(emoji); this.reactions.open = false } }, emoji))))
    this.devices = this.deviceMenu()
    this.root = h('nav', { class: 'controls', i18nLabel: 'controls.label' },
      h('div', { class: 'control-group' }, this.mic, this.camera, this.screen),
      h('div', { class: 'control-group' }, this.hand, this.reactions, this.board),
      h('div', { class: 'control-group' }, this.devices))
    local.onChange(() => this.render())
    store.on('participants', () => this.render())
    onLang(() => this.render())
    this.render()
  }

  render() {
    const l = this.local
    setToggle(this.mic, !l.mic, l.mic ? 'mic' : 'micOff', l.mic ? 'controls.mic_on' : 'controls.mic_off', !l.audioTrack)
    setToggle(this.camera, !l.camera, l.camera ? 'camera' : 'cameraOff', l.camera ? 'controls.camera_on' : 'controls.camera_off', !l.videoTrack)
    setToggle(this.screen, l.sharing, 'screen', l.sharing ? 'controls.screen_stop' : 'controls.screen_start', !navigator.mediaDevices?.getDisplayMedia)
    const raised = this.store.hands.includes(this.store.me)
    setToggle(this.hand, raised, 'hand', raised ? 'controls.hand_lower' : 'controls.hand_raise', false)
    setToggle(this.board, this.boardOpen, 'board', this.boardOpen ? 'controls.board_hide' : 'controls.board_show', false)
  }

  setBoard(open) {
    this.boardOpen = open
    this.render()
  }

  async toggleMic() { this.local.setMic(!this.local.mic); await this.sendMedia() }
  async toggleCamera() { this.local.setCamera(!this.local.camera); await this.sendMedia() }

  async toggleScreen() {
    try {
      if (this.local.sharing) this.local.stopScreen()
      else await this.local.startScreen()
    } catch (err) {
      if (err?.name !== 'NotAllowedError') toast(t('media.screen_failed'), 'error')
      return
    }
    await this.sendMedia()
  }

  async sendMedia() {
    try { await this.conn.request('media', this.local.state()) } catch { /* shown locally anyway */ }
  }

  async toggleHand() {
    const raised = this.store.hands.includes(this.store.me)
    try {
      await this.conn.request(raised ? 'hand.lower' : 'hand.raise', {})
      announce(t(raised ? 'controls.hand_lowered' : 'controls.hand_raised'))
    } catch (err) { showError(err) }
  }

  async react(emoji) {
    try { await this.conn.request('react', { emoji }) } catch (err) { showError(err) }
  }

  deviceMenu() {
    const audio = h('select', { id: nextId('mic') })
    const video = h('select', { id: nextId('cam') })
    audio.addEventListener('change', () => this.local.useDevice('audio', audio.value))
    video.addEventListener('change', () => this.local.useDevice('video', video.value))
    const details = h('details', { class: 'popover devices' },
      h('summary', { class: 'control', i18nLabel: 'controls.devices' }, icon('sliders'), h('span', { class: 'control-text', i18n: 'controls.devices' })),
      h('div', { class: 'popover-menu devices-menu' },
        h('div', { class: 'field' }, h('label', { for: audio.id, i18n: 'media.microphone' }), audio),
        h('div', { class: 'field' }, h('label', { for: video.id, i18n: 'media.camera' }), video)))
    details.addEventListener('toggle', async () => {
      if (!details.open) return
      const devices = await this.local.devices()
      fillSelect(audio, devices.audio, this.local.audioTrack)
      fillSelect(video, devices.video, this.local.videoTrack)
    })
    return details
  }
}

function setToggle(button, on, name, key, disabled) {
  button.classList.toggle('on', on)
  button.disabled = disabled
  button.setAttribute('aria-label', t(key)) // the text is hidden on narrow screens
  fill(button, icon(name), h('span', { class: 'control-text' }, t(key)))
}

function fillSelect(select, devices, track) {
  const current = track?.getSettings().deviceId
  fill(select, devices.length
    ? devices.map((d, i) => h('option', { value: d.deviceId, selected: d.deviceId === current }, d.label || t('media.device', { n: i + 1 })))
    : h('option', { value: '' }, t('media.no_device')))
  select.disabled = !devices.length
}
