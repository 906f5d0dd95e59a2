'use client';
// The spec editor: CodeMirror 6 with YAML highlighting and lint diagnostics placed at the line and
// column the API (or the plan preview) reported.
import { yaml } from '@codemirror/lang-yaml';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { EditorState, type Text } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import { useEffect, useRef } from 'react';
import type { SpecError } from '@/lib/client-api';

/** Offset of a 1-based line and column in the document, clamped into it. */
export function offsetOf(doc: Text, line: number, column: number): number {
  const l = doc.line(Math.min(Math.max(1, line || 1), doc.lines));
  return Math.min(l.from + Math.max(0, (column || 1) - 1), l.to);
}

export function SpecEditor(props: {
  initial: string;
  errors: SpecError[];
  onChange: (text: string) => void;
  label: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onChange = useRef(props.onChange);
  useEffect(() => {
    onChange.current = props.onChange;
  }, [props.onChange]);

  useEffect(() => {
    if (!host.current) return;
    const v = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: props.initial,
        extensions: [
          basicSetup,
          yaml(),
          lintGutter(),
          EditorView.contentAttributes.of({ 'aria-label': props.label }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) onChange.current(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // Created once; the text then lives in the editor (props.initial seeds it).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const doc = v.state.doc;
    const diagnostics: Diagnostic[] = props.errors.map((e) => {
      const from = offsetOf(doc, e.line, e.column);
      const lineEnd = doc.lineAt(from).to;
      return {
        from,
        to: Math.max(from, lineEnd),
        severity: 'error',
        message: `${e.path ? `${e.path}: ` : ''}${e.message}`,
      };
    });
    v.dispatch(setDiagnostics(v.state, diagnostics));
  }, [props.errors]);

  return <div ref={host} className="editor" data-testid="spec-editor" />;
}
