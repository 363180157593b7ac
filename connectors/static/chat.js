// The web chat without page reloads. Without JavaScript every form still works (connectors/web/chat.py: post, then
// the page again); here the same forms are sent in place: a question's answer streams in as it is written
// (/api/ask/stream), a button's reply is appended to the conversation and the buttons it answered go (/api/action).
// The server keeps the conversation, so a reload shows it again. What this script says itself comes with the page,
// in the learner's language (connectors/web/shell.py: strings).
(function () {
  const said = JSON.parse(document.getElementById("coach-strings").textContent);
  const form = document.getElementById("ask");
  const input = document.getElementById("q");
  const log = document.getElementById("conversation");
  if (!form || !input || !log) return;

  function fromHtml(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  function lines(reader, onEvent) {
    const decoder = new TextDecoder();
    let buffer = "";
    return (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n")) >= 0) {
          const text = buffer.slice(0, end).trim();
          buffer = buffer.slice(end + 1);
          if (text) onEvent(JSON.parse(text));
        }
      }
    })();
  }

  // why a request got no reply, as the learner reads it
  function refusal(status) {
    if (status === 422 || status === 413) return said.too_long;
    if (status === 429) return said.slow_down;
    return said.unreachable;
  }

  function failed(element, text) {
    element.className = "notice failed";
    element.setAttribute("role", "alert");
    element.removeAttribute("aria-busy");
    element.textContent = text;
  }

  form.addEventListener("submit", async (event) => {
    const question = input.value.trim();
    event.preventDefault();
    if (!question) return;
    const turn = document.createElement("div");
    turn.className = "exchange";
    const asked = document.createElement("p");
    asked.className = "question";
    asked.textContent = question;
    const answer = document.createElement("div");
    answer.className = "pending";
    answer.setAttribute("aria-busy", "true");
    answer.textContent = said.thinking;
    turn.append(asked, answer);
    log.append(turn);
    input.value = "";
    input.disabled = true;
    let answered = false;
    try {
      const response = await fetch("/api/ask/stream", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ question }),
      });
      if (!response.ok) {
        failed(answer, refusal(response.status));
        return;
      }
      await lines(response.body.getReader(), (item) => {
        if (item.partial !== undefined) {
          answer.className = "partial";
          answer.textContent = item.partial;
        } else if (item.html !== undefined) {
          turn.replaceWith(fromHtml(item.html));
          answered = true;
        } else if (item.error !== undefined) {
          failed(answer, item.error);
          answered = true;
        }
      });
      if (!answered) failed(answer, said.unreachable);
    } catch (error) {
      failed(answer, said.unreachable);
    } finally {
      input.disabled = false;
      if (!answered && !input.value) input.value = question; // not lost: ask again with one key
      input.focus();
    }
  });

  // a reply's buttons: each is a form posting to /action; sent in place instead
  log.addEventListener("submit", async (event) => {
    const button = event.submitter;
    const action = event.target;
    if (!(action instanceof HTMLFormElement) || action.getAttribute("action") !== "/action") return;
    event.preventDefault();
    const data = new URLSearchParams(new FormData(action));
    if (button && button.name) data.set(button.name, button.value);
    const group = action.closest(".actions") || action;
    const buttons = Array.from(group.querySelectorAll("button"));
    buttons.forEach((b) => { b.disabled = true; });
    const exchange = action.closest(".exchange");
    let reply;
    try {
      const response = await fetch("/api/action", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" },
        body: data,
      });
      const result = response.headers.get("content-type")?.includes("json") ? await response.json() : {};
      if (!response.ok || result.html === undefined) {
        const notice = document.createElement("p");
        failed(notice, result.error || refusal(response.status));
        group.after(notice);
        buttons.forEach((b) => { b.disabled = false; });
        return;
      }
      if (result.cleared) {
        log.replaceChildren(); // "forget me": nothing of the conversation is kept any more
      } else if (result.actions !== null && result.actions !== undefined && exchange) {
        const left = exchange.querySelector(".actions");
        if (left) left.replaceWith(fromHtml(result.actions));
      }
      reply = fromHtml(result.html);
      log.append(reply);
    } catch (error) {
      const notice = document.createElement("p");
      failed(notice, said.unreachable);
      group.after(notice);
      buttons.forEach((b) => { b.disabled = false; });
      return;
    }
    const focus = reply.querySelector(".answer") || reply;
    focus.focus();
  });
})();
