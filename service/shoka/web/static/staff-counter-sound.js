// Sound cues of the counter screen (Web Audio API): a desk hears whether a scan went through without looking.
// Each outcome has its own short pattern; the mute choice is remembered in localStorage for the workstation.

const MUTE_KEY = "shoka.counter.muted";

// [frequency in Hz, duration in ms, waveform] played one after another with a short gap.
const CUES = {
  success: [[1046, 70, "sine"]],
  patron: [[784, 60, "sine"], [1046, 60, "sine"]],
  warning: [[660, 120, "triangle"], [660, 120, "triangle"]],
  error: [[196, 220, "square"], [147, 320, "square"]],
  transit: [[523, 110, "sine"], [659, 110, "sine"]],
  hold: [[523, 110, "sine"], [659, 110, "sine"], [784, 110, "sine"], [1046, 200, "sine"]],
  hold_transit: [[1046, 110, "sine"], [784, 110, "sine"], [1046, 110, "sine"], [784, 200, "sine"]],
};
const GAP_MS = 35;
const VOLUME = 0.18;

let context = null;

function storedMute() {
  try {
    return window.localStorage.getItem(MUTE_KEY) === "1";
  } catch (error) {
    return false; // storage may be disabled by policy: sound stays on
  }
}

let muted = storedMute();

export function isMuted() {
  return muted;
}

export function setMuted(value) {
  muted = Boolean(value);
  try {
    window.localStorage.setItem(MUTE_KEY, muted ? "1" : "0");
  } catch (error) {
    // the choice then lasts for this page only
  }
}

// Browsers start audio only after a user gesture: the first key press or click creates the context.
export function prime() {
  if (context || !(window.AudioContext || window.webkitAudioContext)) {
    if (context && context.state === "suspended") context.resume();
    return;
  }
  try {
    context = new (window.AudioContext || window.webkitAudioContext)();
  } catch (error) {
    context = null;
  }
}

export function play(cue) {
  if (muted || !CUES[cue]) return;
  prime();
  if (!context) return;
  let start = context.currentTime + 0.01;
  for (const [frequency, duration, waveform] of CUES[cue]) {
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.type = waveform;
    oscillator.frequency.value = frequency;
    const seconds = duration / 1000;
    gain.gain.setValueAtTime(VOLUME, start);
    gain.gain.exponentialRampToValueAtTime(0.001, start + seconds); // no click at the end of a tone
    oscillator.connect(gain).connect(context.destination);
    oscillator.start(start);
    oscillator.stop(start + seconds);
    start += seconds + GAP_MS / 1000;
  }
}
