// Copy buttons on the organisers' pages; everything else works without script.
document.addEventListener('click', async (event) => {
  const button = event.target.closest('button.copy')
  if (!button) return
  const source = document.getElementById(button.dataset.copy)
  if (!source) return
  const text = source.value ?? source.textContent
  try {
    await navigator.clipboard.writeText(text)
  } catch {
    source.select?.()
    document.execCommand?.('copy')
  }
  const status = button.parentElement.querySelector('.copied') ?? document.querySelector('.copied')
  if (status) status.textContent = status.dataset.done
})
