import type { ChangeEvent, Ref } from "react";

interface FieldProps {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string | undefined;
  hint?: string;
  type?: "text" | "email" | "password";
  multiline?: boolean;
  autoComplete?: string;
  inputMode?: "numeric" | "email";
  required?: boolean;
  inputRef?: Ref<HTMLInputElement & HTMLTextAreaElement>;
}

/**
 * A labelled input whose error sits right under it, tied to it by aria-describedby and flagged
 * with aria-invalid, so a screen reader reads the error when the field gets focus.
 */
export function Field({
  id,
  label,
  value,
  onChange,
  error,
  hint,
  type = "text",
  multiline = false,
  autoComplete,
  inputMode,
  required = false,
  inputRef,
}: FieldProps) {
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [errorId, hintId].filter(Boolean).join(" ") || undefined;
  const common = {
    id,
    name: id,
    value,
    required,
    "aria-invalid": error ? (true as const) : undefined,
    "aria-describedby": describedBy,
    onChange: (event: ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => onChange(event.target.value),
  };
  return (
    <div className={error ? "field field-invalid" : "field"}>
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      )}
      {multiline ? (
        <textarea {...common} ref={inputRef} rows={14} />
      ) : (
        <input {...common} ref={inputRef} type={type} autoComplete={autoComplete} inputMode={inputMode} />
      )}
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}
