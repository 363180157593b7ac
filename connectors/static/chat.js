// The web chat without page reloads: each question joins the conversation and its answer streams in as it is
// written. Without JavaScript the form still works (a plain GET of the page). What it says itself comes with the page,
// in the learner's language (connectors/web.py: page_html).
(function () {
  const said = JSON.parse(document.getElementById("coach-strings").textContent);
  const form = document.getElementById("ask");
  const input = document.getElementById("q");
  const log = document.getElementById("conversation");
  const history = [];

  function line(reader, onEvent) {
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

  form.addEventListener("submit", async (event) => {
    const question = input.value.trim();
    event.preventDefault();
    if (!question) return;
    const asked = document.createElement("p");
    asked.className = "question";
    asked.textContent = question;
    const answer = document.createElement("div");
    answer.className = "pending";
    answer.setAttribute("role", "status");
    answer.textContent = said.thinking;
    log.append(asked, answer);
    input.value = "";
    input.disabled = true;
    try {
      const response = await fetch("/api/ask/stream", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ question, history: history.slice(-6) }),
      });
      if (!response.ok) throw new Error("HTTP " + response.status);
      await line(response.body.getReader(), (item) => {
        if (item.partial !== undefined) {
          answer.className = "partial";
          answer.textContent = item.partial;
        } else if (item.html !== undefined) {
          answer.outerHTML = item.html;
          history.push({ speaker: "learner", text: question }, { speaker: "coach", text: item.reply.answer });
        } else if (item.error !== undefined) {
          answer.className = "notice";
          answer.textContent = item.error;
        }
      });
    } catch (error) {
      answer.className = "notice";
      answer.textContent = said.unreachable;
    } finally {
      input.disabled = false;
      input.focus();
    }
  });
})();
