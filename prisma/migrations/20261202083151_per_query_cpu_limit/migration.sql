-- AlterTable
ALTER TABLE "Query" ADD COLUMN     "cpuLimit" DOUBLE PRECISION;

-- AlterTable
ALTER TABLE "Instance" ADD COLUMN     "cpuLimit" JSONB;
