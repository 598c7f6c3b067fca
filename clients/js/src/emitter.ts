/** A typed event emitter: `on` returns the function that removes the listener. */
export class Emitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<(event: never) => void>>();

  on<K extends keyof Events>(name: K, listener: (event: Events[K]) => void): () => void {
    let set = this.listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener as (event: never) => void);
    return () => this.off(name, listener);
  }

  off<K extends keyof Events>(name: K, listener: (event: Events[K]) => void): void {
    this.listeners.get(name)?.delete(listener as (event: never) => void);
  }

  /** Calls every listener; one that throws is reported asynchronously and does not stop the others. */
  protected emit<K extends keyof Events>(name: K, event: Events[K]): void {
    const set = this.listeners.get(name);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as (event: Events[K]) => void)(event);
      } catch (error) {
        // An application bug must not break delivery to the next listener or the SDK's own state.
        setTimeout(() => {
          throw error;
        }, 0);
      }
    }
  }

  protected clearListeners(): void {
    this.listeners.clear();
  }
}
