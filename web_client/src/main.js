import './styles.css'
import { App } from './app.js'
import { municipalities } from './municipalities.js'

const match = location.pathname.match(/^\/m\/([^/]+)/)
const params = new URLSearchParams(location.search)
new App(document.getElementById('app'), {
  meeting: match ? decodeURIComponent(match[1]) : null,
  token: params.get('t'),
}).start()
municipalities() // the canonical list, for names in the viewer's language
