// The content width of an element, from a ResizeObserver, so its charts fill the container and redraw
// when it resizes (every ModelViewElement has one).
import type { ReactiveController, ReactiveControllerHost } from 'lit';

export class WidthController implements ReactiveController {
  /** Content width in CSS pixels; 0 before layout. */
  private width = 0;
  private observer: ResizeObserver | undefined;

  constructor(private readonly host: ReactiveControllerHost & HTMLElement) {
    host.addController(this);
  }

  hostConnected(): void {
    this.observer ??= new ResizeObserver(([entry]) => {
      const width = Math.floor(entry!.contentRect.width);
      // Re-render in the next frame: re-rendering inside the observer's callback changes the host's
      // height and makes the browser report a "ResizeObserver loop".
      if (width !== this.width) {
        requestAnimationFrame(() => {
          this.width = width;
          this.host.requestUpdate();
        });
      }
    });
    this.observer.observe(this.host);
  }

  hostDisconnected(): void {
    this.observer?.disconnect();
  }

  /** The width to draw at: the observed width, measured directly before the first observation; 640 without layout. */
  get value(): number {
    if (!this.width && this.host.isConnected) this.width = Math.floor(this.host.getBoundingClientRect().width);
    return this.width || 640;
  }
}
