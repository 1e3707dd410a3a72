/**
 * The chat panel's chunk (`video-chat-chat-panel-<hash>.js`, loaded by `panels.ts` when the chat is first opened): the
 * panel (`chat.ts`) and what its form does on submit, so that the script-tag file carries neither.
 * @module
 */
export { renderChat, styles } from './chat.js';

/** What the form needs of the element: sending a message (`VideoChatElement.sendChatMessage`). */
export interface ChatHost {
  sendChatMessage(text: string): unknown;
}

/** The chat form's submit: sends the text field's message (not a blank one) and empties the field. */
export function submitChat(event: Event, host: ChatHost): void {
  event.preventDefault();
  const input = (event.currentTarget as HTMLFormElement).elements.namedItem('message') as HTMLInputElement;
  if (!input.value.trim()) return;
  host.sendChatMessage(input.value);
  input.value = '';
}
