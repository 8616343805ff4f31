import { BaseEdge, EdgeLabelRenderer, getSmoothStepPath, type Edge, type EdgeProps } from "@xyflow/react";
import { memo } from "react";

export interface Point {
  x: number;
  y: number;
}

export interface RoutedEdgeData extends Record<string, unknown> {
  /** ELK's route (start and end on the node borders); without it, a smoothstep path between the handles. */
  points?: Point[];
  /** Centre of the label on the route (ELK's label position); without it, the path's middle. */
  labelAt?: Point;
  /** The outcome as drawn (short); empty or absent for a plain `next`. */
  text?: string;
  /** The full outcome (a logic rule's whole condition), shown as the tooltip. */
  title?: string;
  /** Label text colour class(es), e.g. the outcome's colour. */
  tone?: string;
}

export type RoutedEdgeType = Edge<RoutedEdgeData, "routed">;

/** Corner radius of a routed polyline. */
const RADIUS = 8;

/**
 * An SVG path through `points` with rounded corners (quadratic curves of up to
 * `radius`, never more than half of either segment at a corner).
 */
export function roundedPath(points: readonly Point[], radius = RADIUS): string {
  const first = points[0];
  if (!first) return "";
  let d = `M ${String(first.x)} ${String(first.y)}`;
  for (let i = 1; i < points.length; i++) {
    const p = points[i];
    const prev = points[i - 1];
    const next = points[i + 1];
    if (!p || !prev) continue;
    if (!next) {
      d += ` L ${String(p.x)} ${String(p.y)}`;
      break;
    }
    const inLen = Math.hypot(p.x - prev.x, p.y - prev.y);
    const outLen = Math.hypot(next.x - p.x, next.y - p.y);
    const r = Math.min(radius, inLen / 2, outLen / 2);
    if (r <= 0) {
      d += ` L ${String(p.x)} ${String(p.y)}`;
      continue;
    }
    const a = { x: p.x - ((p.x - prev.x) / inLen) * r, y: p.y - ((p.y - prev.y) / inLen) * r };
    const b = { x: p.x + ((next.x - p.x) / outLen) * r, y: p.y + ((next.y - p.y) / outLen) * r };
    d += ` L ${String(a.x)} ${String(a.y)} Q ${String(p.x)} ${String(p.y)} ${String(b.x)} ${String(b.y)}`;
  }
  return d;
}

/** Middle of a polyline by length (where a label goes when the layout gave none). */
export function midpoint(points: readonly Point[]): Point {
  let total = 0;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    if (a && b) total += Math.hypot(b.x - a.x, b.y - a.y);
  }
  let left = total / 2;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    if (!a || !b) continue;
    const len = Math.hypot(b.x - a.x, b.y - a.y);
    if (len >= left && len > 0) return { x: a.x + ((b.x - a.x) * left) / len, y: a.y + ((b.y - a.y) * left) / len };
    left -= len;
  }
  return points[0] ?? { x: 0, y: 0 };
}

/**
 * React Flow edge type "routed": draws the layout's route as a rounded polyline when
 * `data.points` is given, otherwise a smoothstep path between the handles; the label
 * (the outcome) sits on the line, with the full text as its tooltip.
 */
export const RoutedEdge = memo(function RoutedEdge({
  id,
  sourceX,
  sourceY,
  targetX,
  targetY,
  sourcePosition,
  targetPosition,
  data,
  style,
  markerEnd,
  markerStart,
  interactionWidth,
}: EdgeProps<RoutedEdgeType>) {
  let path: string;
  let at: Point;
  const points = data?.points;
  if (points && points.length >= 2) {
    path = roundedPath(points);
    at = data.labelAt ?? midpoint(points);
  } else {
    const [smooth, labelX, labelY] = getSmoothStepPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, borderRadius: RADIUS });
    path = smooth;
    at = { x: labelX, y: labelY };
  }
  const text = data?.text ?? "";
  return (
    <>
      <BaseEdge id={id} path={path} style={style} markerEnd={markerEnd} markerStart={markerStart} interactionWidth={interactionWidth} />
      {text !== "" ? (
        <EdgeLabelRenderer>
          <div
            className={`nodrag nopan pointer-events-auto absolute rounded border border-slate-200 bg-white px-1 text-[11px] leading-4 whitespace-nowrap dark:border-slate-700 dark:bg-slate-900 ${
              data?.tone ?? "text-slate-700 dark:text-slate-200"
            }`}
            style={{ transform: `translate(-50%, -50%) translate(${String(at.x)}px, ${String(at.y)}px)` }}
            title={data?.title && data.title !== text ? data.title : undefined}
            data-testid="edge-label"
            data-edge={id}
          >
            {text}
          </div>
        </EdgeLabelRenderer>
      ) : null}
    </>
  );
});
