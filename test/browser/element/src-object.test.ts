/**
 * `srcObject()` (src/ui/src-object.ts), the binding of every video of the element: re-rendering with the same stream
 * leaves the video alone (no new load: `loadstart` fires once), another stream or none replaces it.
 */
import { expect } from '@open-wc/testing';
import { html, render } from 'lit';
import { srcObject } from '../../../src/ui/src-object.js';
import { canvasTrack, waitFor } from '../helpers.js';

describe('srcObject()', () => {
  it('commits a stream once, however often the template renders, and a new one when it changes', async () => {
    const container = document.createElement('div');
    document.body.append(container);
    const first = new MediaStream([canvasTrack('red')]);
    const second = new MediaStream([canvasTrack('blue')]);
    const draw = (stream: MediaStream | null) =>
      render(html`<video muted autoplay playsinline .srcObject=${srcObject(stream)}></video>`, container);
    try {
      draw(first);
      const video = container.querySelector('video') as HTMLVideoElement;
      let loads = 0;
      video.addEventListener('loadstart', () => loads++);
      await waitFor('the first picture', () => video.videoWidth > 0);
      const started = loads;
      for (let i = 0; i < 5; i++) draw(first);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(loads).to.equal(started, 'no new load for the same stream');
      expect(video.srcObject).to.equal(first);

      draw(second);
      expect(video.srcObject).to.equal(second);
      draw(null);
      expect(video.srcObject).to.equal(null);
    } finally {
      render(null, container);
      container.remove();
      for (const track of [...first.getTracks(), ...second.getTracks()]) track.stop();
    }
  });
});
