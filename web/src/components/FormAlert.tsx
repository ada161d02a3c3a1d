import type { ReactNode } from "react";

/**
 * The form-level error, announced as soon as it appears (role="alert"); it lists the field
 * errors too, so they are heard even before the user moves to each field.
 */
export function FormAlert({
  message,
  fieldMessages = [],
  children,
}: {
  message: string;
  fieldMessages?: string[];
  children?: ReactNode;
}) {
  return (
    <div role="alert" className="form-alert">
      <p>{message}</p>
      {fieldMessages.length > 0 && (
        <ul>
          {fieldMessages.map((text) => (
            <li key={text}>{text}</li>
          ))}
        </ul>
      )}
      {children}
    </div>
  );
}
